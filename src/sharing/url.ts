/**
 * Pure: what kind of remote URL this is, its userinfo split off, valid remote names. Masking
 * credentials for display is sharing/mask.ts's one job (maskSecrets).
 */
export type UrlKind = 'http' | 'ssh' | 'file' | 'git';

export function urlKind(url: string): UrlKind | null {
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^(ssh|git\+ssh|ssh\+git):\/\//i.test(url)) return 'ssh';
  if (/^git:\/\//i.test(url)) return 'git';
  if (/^file:\/\//i.test(url) || url.startsWith('/') || url.startsWith('./') || url.startsWith('../') || url.startsWith('~')) return 'file';
  // scp-like: [user@]host:path (not a Windows drive letter, no scheme).
  if (/^([^@/:\s]+@)?[A-Za-z0-9.-]{2,}:(?!\/\/)\S*$/.test(url)) return 'ssh';
  return null;
}

export interface Userinfo {
  username?: string;
  password?: string;
}

/** An http(s) URL without its userinfo, and the userinfo it had. */
export function splitUserinfo(url: string): { url: string } & Userinfo {
  if (urlKind(url) !== 'http') return { url };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  if (!username && !password) return { url };
  u.username = '';
  u.password = '';
  return { url: u.toString().replace(/\/$/, url.endsWith('/') ? '/' : ''), username, password };
}

export function validRemoteName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) && !name.includes('..') && !name.endsWith('.lock');
}
