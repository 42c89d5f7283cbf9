/** The wheel tags a venv's interpreter accepts, asked from its pip (one Python start). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// pip's vendored packaging, or packaging itself.
const TAGS = `
import json
try:
    from pip._vendor.packaging.tags import sys_tags
except Exception:
    from packaging.tags import sys_tags
print(json.dumps([str(t) for t in sys_tags()]))
`;

/** `cp311-cp311-manylinux_2_17_x86_64`, ...; null when the venv cannot say. */
export function supportedTags(venv: string): Set<string> | null {
  const r = spawnSync(join(venv, 'bin', 'python'), ['-c', TAGS], { encoding: 'utf8', env: { ...process.env, PYCTL_NO_RECORD: '1' } });
  try {
    return r.status === 0 ? new Set(JSON.parse(r.stdout) as string[]) : null;
  } catch {
    return null; // not JSON: as if it could not say
  }
}
