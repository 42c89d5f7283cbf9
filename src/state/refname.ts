/** Pure: is this a snapshot name git accepts as a tag (git check-ref-format rules)? */
export function refNameProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  if (name.length > 200) return 'it is longer than 200 characters';
  if (name.includes('\ufffd')) return 'it is not valid UTF-8';
  if (/[\x00-\x20\x7f]/.test(name)) return 'it contains a space or control character';
  const bad = /[~^:?*[\\]/.exec(name);
  if (bad) return `it contains '${bad[0]}'`;
  if (name.includes('..')) return "it contains '..'";
  if (name.includes('@{')) return "it contains '@{'";
  if (name === '@') return "'@' alone is not allowed";
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return "it has an empty part between '/'";
  if (name.endsWith('.')) return "it ends with '.'";
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return "a part starts with '.'";
    if (part.endsWith('.lock')) return "a part ends with '.lock'";
  }
  if (name.startsWith('auto/')) return "names under 'auto/' are kept for automatic snapshots";
  if (name.startsWith('-')) return "it starts with '-'";
  if (/^\d+$/.test(name)) return 'all digits would be read as an operation number';
  return null;
}
