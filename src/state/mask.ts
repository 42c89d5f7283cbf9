/** Pure: hide credentials in command lines and URLs before they are recorded or printed. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;
const SECRET_FLAG = /(--?(?:token|password|passwd|secret)[= ])(\S+)/gi;

export function maskSecrets(text: string): string {
  return text
    .replace(USERINFO, (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      // A bare user name (git@…) is no secret; user:password and lone tokens are.
      if (colon < 0) return /^[a-z_][a-z0-9_.-]{0,31}$/i.test(userinfo) && userinfo.length < 20 ? `${scheme}${userinfo}@` : `${scheme}****@`;
      return `${scheme}${userinfo.slice(0, colon)}:****@`;
    })
    .replace(SECRET_FLAG, '$1****');
}

/** True when text seems to hold a credential (used before pushing). */
export function looksSecret(text: string): boolean {
  return maskSecrets(text) !== text;
}
