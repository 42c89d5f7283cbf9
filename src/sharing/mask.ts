/**
 * Pure: hide credentials in command lines and URLs before they are recorded or printed. The one
 * owner of what counts as a secret: records (commit subjects, freeze lines), history, --json,
 * pushes and remote URLs all go through here.
 */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s?#]+)@/gi;
/** A credential given as a flag's value: `--password x`, `--token=x`, `--api-key x`. */
const SECRET_FLAG = /((?:^|\s)--?(?:[a-z0-9]+-)*(?:token|password|passwd|secret|api-?key)[= ])(\S+)/gi;
/**
 * `KEY=VALUE` where KEY names a credential: query strings (`?access_token=…`, `&X-Amz-Signature=…`,
 * `&sig=…`) and pip's `--config-settings token=…`, `-C password=…`.
 */
const SECRET_PAIR = /(^|[\s?&;,'"=])([a-z0-9_.-]*(?:token|passw(?:or)?d|pwd|secret|api[_-]?key|apikey|credential|signature)[a-z0-9_.-]*|auth|authorization)=(?!=)([^\s&#'"]+)/gi;
/** Short query keys that carry a credential only in a query string (`?key=…`, SAS `&sig=…`). */
const SECRET_QUERY = /([?&;])(sig|key|code)=([^\s&#'"]+)/gi;

/** Schemes whose bare user name is a login (`git@`, `ssh://deploy@`), not a token. */
function loginScheme(scheme: string): boolean {
  const parts = scheme.slice(0, -3).toLowerCase().split('+');
  return parts.includes('ssh') || parts.includes('sftp') || (parts.length === 1 && parts[0] === 'git');
}

export function maskSecrets(text: string): string {
  // Cheap exit for the common command line with nothing URL- or secret-like in it.
  if (!/[@=]|--?[a-z-]*(?:token|pass|secret|key|auth)/i.test(text)) return text;
  return text
    .replace(USERINFO, (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:****@`;
      // A bare user name is a login only over ssh (git@…, `${VAR}` is pip's placeholder); over
      // http(s) it is how tokens are written (https://TOKEN@host), whatever its length.
      if (userinfo === 'git' || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(userinfo)) return `${scheme}${userinfo}@`;
      return loginScheme(scheme) && /^[a-z_][a-z0-9_.-]{0,31}$/i.test(userinfo) ? `${scheme}${userinfo}@` : `${scheme}****@`;
    })
    .replace(SECRET_FLAG, '$1****')
    .replace(SECRET_PAIR, (m, lead: string, key: string, value: string) => (value === '****' ? m : `${lead}${key}=****`))
    .replace(SECRET_QUERY, '$1$2=****');
}

/** True when text seems to hold a credential (used before pushing). */
export function looksSecret(text: string): boolean {
  return maskSecrets(text) !== text;
}

/**
 * A remote URL as it may be stored in .git/config: an ssh URL keeps its login but never a
 * password (`ssh://u:pass@host/p` -> `ssh://u@host/p`). http(s) credentials are stripped by the
 * remote code itself (they go to PYCTL_GIT_TOKEN instead).
 */
export function withoutSshPassword(url: string): string {
  return url.replace(/^((?:[a-z0-9.+-]*\+)?(?:ssh|sftp)(?:\+[a-z0-9.+-]*)?:\/\/)([^/@:\s]*):[^/@\s]*@/i, (_m, scheme: string, user: string) => (user ? `${scheme}${user}@` : scheme));
}
