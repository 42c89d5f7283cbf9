/**
 * Pure: a Node network or TLS error in words, one short phrase (no OpenSSL dump), for the two
 * places that reach servers: the git remotes (sharing/hints.ts) and the package index (net/http.ts).
 */
const NET_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};

export interface NetProblem {
  /** e.g. "connection refused", "the server did not answer in TLS". */
  what: string;
  /** Set when there is something specific to do about it. */
  hint?: string;
  tls: boolean;
}

export function netProblem(e: unknown): NetProblem | null {
  const err = e as { code?: string; message?: string } | undefined;
  const code = err?.code ?? '';
  const message = err?.message ?? '';
  if (NET_CODES[code]) return { what: NET_CODES[code], tls: false };
  // https:// to a server that speaks plain HTTP: OpenSSL's "wrong version number" (EPROTO).
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return {
      what: 'the server did not answer in TLS (an https:// URL for a server that speaks plain http?)',
      hint: "check the URL's scheme and port: use http:// if the server has no TLS",
      tls: true,
    };
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return { what: `TLS certificate problem (${code})`, hint: 'the server certificate is not trusted; set NODE_EXTRA_CA_CERTS to your CA bundle', tls: true };
  }
  if (code === 'EPROTO' || /SSL|TLS/.test(code) || /ssl routines|alert handshake/i.test(message)) {
    // OpenSSL's text is "...:SSL routines:FUNCTION:REASON:file:line:": keep the reason only.
    const reason = /SSL routines:[^:]*:([^:]+):/i.exec(message)?.[1];
    return { what: `the TLS handshake failed${reason ? ` (${reason.trim()})` : ''}`, tls: true };
  }
  return null;
}
