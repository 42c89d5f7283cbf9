// PROVISIONAL (replaced by the full reader from the freeze branch).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
export interface Installed { name: string; key: string; version: string; line: string; distPath: string; format: 'dist-info' | 'egg-info' | 'egg-link'; editable: boolean; requested: boolean; installer?: string; directUrl?: { url: string } }
export function venvPythonVersion(venv: string): string {
  const cfg = readFileSync(join(venv, 'pyvenv.cfg'), 'utf8');
  return /^version(?:_info)?\s*=\s*(\S+)/m.exec(cfg)?.[1] ?? '';
}
export function sitePackagesDir(venv: string): string {
  const [a, b] = venvPythonVersion(venv).split('.');
  return join(venv, 'lib', `python${a}.${b}`, 'site-packages');
}
export function readInstalled(venv: string): Installed[] {
  const sp = sitePackagesDir(venv);
  const out: Installed[] = [];
  for (const e of readdirSync(sp)) {
    if (!e.endsWith('.dist-info')) continue;
    const md = readFileSync(join(sp, e, 'METADATA'), 'utf8');
    const name = /^Name: (.*)$/m.exec(md)![1].trim();
    const version = /^Version: (.*)$/m.exec(md)![1].trim();
    out.push({ name, key: name.toLowerCase().replace(/[-_.]+/g, '-'), version, line: `${name}==${version}`, distPath: join(sp, e), format: 'dist-info', editable: false, requested: false });
  }
  return out.sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
}
export function freezeText(items: Installed[]): string {
  return items.length ? items.map((i) => i.line).join('\n') + '\n' : '';
}
export function readFreeze(venv: string): string { return freezeText(readInstalled(venv)); }
export function parseFreeze(text: string): Map<string, { name: string; version: string; line: string }> {
  const m = new Map<string, { name: string; version: string; line: string }>();
  for (const line of text.split('\n')) {
    const x = /^([^=\s]+)==(.+)$/.exec(line);
    if (x) m.set(x[1].toLowerCase().replace(/[-_.]+/g, '-'), { name: x[1], version: x[2], line });
  }
  return m;
}
export function sitePackagesMtimeNs(venv: string): bigint { return statSync(sitePackagesDir(venv), { bigint: true }).mtimeNs; }
