/**
 * PEP 440 versions, one grammar for both jobs: normalization exactly as `packaging` prints
 * `str(Version(raw))` (packaging 21.3 in pip 23.2, same rules in packaging 24), and ordering
 * well enough to tell an upgrade from a downgrade.
 */
const VERSION_RE = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

/** Python int(str) then str(): drop leading zeros, keep one '0'. */
const int = (s: string): string => s.replace(/^0+(?=\d)/, '');

function preLetter(l: string): string {
  const x = l.toLowerCase();
  if (x === 'alpha') return 'a';
  if (x === 'beta') return 'b';
  if (x === 'c' || x === 'pre' || x === 'preview') return 'rc';
  return x;
}

/** Normalized, or null for an invalid version (pip 23.2 then prints `name===raw`). */
export function normalizeVersion(raw: string): string | null {
  const m = VERSION_RE.exec(raw);
  if (!m?.groups) return null;
  const g = m.groups;
  let out = '';
  if (g.epoch !== undefined && int(g.epoch) !== '0') out += `${int(g.epoch)}!`;
  out += g.release.split('.').map(int).join('.');
  if (g.pre_l !== undefined) out += preLetter(g.pre_l) + int(g.pre_n ?? '0');
  if (g.post_n1 !== undefined) out += `.post${int(g.post_n1)}`;
  else if (g.post_l !== undefined) out += `.post${int(g.post_n2 ?? '0')}`;
  if (g.dev_l !== undefined) out += `.dev${int(g.dev_n ?? '0')}`;
  if (g.local !== undefined) {
    out +=
      '+' +
      g.local
        .split(/[-_.]/)
        .map((p) => (/^[0-9]+$/.test(p) ? int(p) : p.toLowerCase()))
        .join('.');
  }
  return out;
}

interface Parsed {
  epoch: number;
  release: number[];
  pre: [number, number] | null; // [a=0|b=1|rc=2, n]
  post: number | null;
  dev: number | null;
  local: string;
}

function parse(v: string): Parsed | null {
  const g = VERSION_RE.exec(v)?.groups;
  if (!g) return null;
  const preTag = g.pre_l?.toLowerCase();
  const preKind = preTag === undefined ? -1 : preTag.startsWith('a') ? 0 : preTag.startsWith('b') ? 1 : 2;
  return {
    epoch: g.epoch ? Number(g.epoch) : 0,
    release: g.release.split('.').map(Number),
    pre: preKind < 0 ? null : [preKind, Number(g.pre_n || 0)],
    post: g.post_n1 !== undefined ? Number(g.post_n1) : g.post_l !== undefined ? Number(g.post_n2 || 0) : null,
    dev: g.dev_l !== undefined ? Number(g.dev_n || 0) : null,
    local: g.local ?? '',
  };
}

/**
 * Order two versions: release segments numerically; pre < (none) < post; dev before its
 * release. Unparseable versions fall back to string order.
 */
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
  const preKey = (p: Parsed): [number, number] => (p.pre ? p.pre : p.dev !== null && p.post === null ? [-1, 0] : [3, 0]);
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
