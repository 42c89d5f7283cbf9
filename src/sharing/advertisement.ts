/**
 * Pure: narrow a smart-HTTP v0/v1 ref advertisement (`GET info/refs?service=git-upload-pack`)
 * to what pyctl fetches: `refs/heads/main`, the tags, and a HEAD naming main.
 *
 * Why: isomorphic-git's fetch resolves the server's HEAD after downloading the pack and before
 * storing it, and throws "Could not find HEAD" when HEAD is unborn (`git init --bare` names
 * `master`; pyctl pushes `main`), losing the objects (isomorphic-git issue #1654). And it wants
 * every branch tip, so a server that keeps other branches would send all their history too.
 * Seen through this filter, the server has exactly main (as HEAD too) and the tags.
 */
const MAIN = 'refs/heads/main';

function pkt(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0'), 'latin1'), payload]);
}

/** The advertisement with only main, HEAD -> main and tags; unchanged when it has no main. */
export function narrowAdvertisement(body: Buffer): Buffer {
  const before: Buffer[] = []; // the `# service=` line and its flush
  const refs: { oid: string; name: string }[] = [];
  let caps = '';
  let pos = 0;
  let seenRefs = false;
  while (pos + 4 <= body.length) {
    const len = parseInt(body.subarray(pos, pos + 4).toString('latin1'), 16);
    if (Number.isNaN(len)) return body;
    if (len === 0) {
      if (seenRefs) break;
      before.push(body.subarray(pos, pos + 4));
      pos += 4;
      continue;
    }
    if (len < 4 || pos + len > body.length) return body;
    const line = body
      .subarray(pos + 4, pos + len)
      .toString('latin1')
      .replace(/\n$/, '');
    pos += len;
    if (line.startsWith('#')) {
      before.push(body.subarray(pos - len, pos));
      continue;
    }
    seenRefs = true;
    const nul = line.indexOf('\0');
    const ref = nul >= 0 ? line.slice(0, nul) : line;
    if (nul >= 0) caps = line.slice(nul + 1);
    const [oid, name] = ref.split(' ');
    if (oid && name) refs.push({ oid, name });
  }
  const main = refs.find((r) => r.name === MAIN);
  if (!main) return body;
  const kept = [{ oid: main.oid, name: 'HEAD' }, main, ...refs.filter((r) => r.name.startsWith('refs/tags/'))];
  // HEAD's symref now names main; drop the server's own.
  const capList = caps.split(' ').filter((c) => c && !c.startsWith('symref=HEAD:'));
  capList.push(`symref=HEAD:${MAIN}`);
  const lines = kept.map((r, i) => pkt(Buffer.from(`${r.oid} ${r.name}${i === 0 ? `\0${capList.join(' ')}` : ''}\n`, 'latin1')));
  return Buffer.concat([...before, ...lines, Buffer.from('0000', 'latin1')]);
}
