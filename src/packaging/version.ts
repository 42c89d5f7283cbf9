/**
 * Pure: order PEP 440 versions well enough to tell an upgrade from a downgrade.
 * Release segments compare numerically; pre < (none) < post; dev before its release.
 * Unparseable versions fall back to string order.
 */
interface Parsed {
  epoch: number;
  release: number[];
  pre: [number, number] | null; // [a=0|b=1|rc=2, n]
  post: number | null;
  dev: number | null;
  local: string;
}

const RE =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?(?:(?:-(\d+))|(?:[-_.]?(post|rev|r)[-_.]?(\d*)))?(?:[-_.]?(dev)[-_.]?(\d*))?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i;

function parse(v: string): Parsed | null {
  const m = RE.exec(v.trim());
  if (!m) return null;
  const preTag = m[3]?.toLowerCase();
  const preKind = preTag === undefined ? -1 : preTag.startsWith('a') ? 0 : preTag.startsWith('b') ? 1 : 2;
  return {
    epoch: m[1] ? Number(m[1]) : 0,
    release: m[2].split('.').map(Number),
    pre: preKind < 0 ? null : [preKind, Number(m[4] || 0)],
    post: m[5] !== undefined ? Number(m[5]) : m[6] !== undefined ? Number(m[7] || 0) : null,
    dev: m[8] !== undefined ? Number(m[9] || 0) : null,
    local: m[10] ?? '',
  };
}

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.epoch !== pb.epoch) return cmpNum(pa.epoch, pb.epoch);
  const n = Math.max(pa.release.length, pb.release.length);
  for (let i = 0; i < n; i++) {
    const c = cmpNum(pa.release[i] ?? 0, pb.release[i] ?? 0);
    if (c) return c;
  }
  // A dev release with no pre/post sorts before the pre-releases of the same version.
  const preKey = (p: Parsed): [number, number] =>
    p.pre ? p.pre : p.dev !== null && p.post === null ? [-1, 0] : [3, 0];
  const [ka, na] = preKey(pa);
  const [kb, nb] = preKey(pb);
  if (ka !== kb) return cmpNum(ka, kb);
  if (na !== nb) return cmpNum(na, nb);
  const postA = pa.post ?? -1;
  const postB = pb.post ?? -1;
  if (postA !== postB) return cmpNum(postA, postB);
  const devA = pa.dev ?? Infinity;
  const devB = pb.dev ?? Infinity;
  if (devA !== devB) return devA < devB ? -1 : 1;
  return pa.local < pb.local ? -1 : pa.local > pb.local ? 1 : 0;
}
