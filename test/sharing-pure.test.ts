/** Pure parts of src/sharing: the advertisement filter, the push plan, the secret scan, URLs. */
import { describe, expect, it } from 'vitest';
import { narrowAdvertisement } from '../src/sharing/advertisement.js';
import { planPush, secretFindings, snapshotsToPush } from '../src/sharing/push-plan.js';
import { splitUserinfo, urlKind } from '../src/sharing/url.js';
import { transportKindOf } from '../src/sharing/transport.js';
import { plainHttpWarning } from '../src/sharing/credentials.js';
import { netProblem } from '../src/net/net-error.js';

const pkt = (s: string) => (s.length + 4).toString(16).padStart(4, '0') + s;
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const lines = (body: Buffer) => {
  const out: string[] = [];
  let pos = 0;
  while (pos < body.length) {
    const len = parseInt(body.subarray(pos, pos + 4).toString(), 16);
    out.push(len === 0 ? '0000' : body.subarray(pos + 4, pos + len).toString());
    pos += len === 0 ? 4 : len;
  }
  return out;
};

describe('narrowAdvertisement', () => {
  const svc = pkt('# service=git-upload-pack\n') + '0000';
  it('adds HEAD -> main when the server HEAD is unborn (git init --bare: master)', () => {
    const body = Buffer.from(svc + pkt(`${A} refs/heads/main\0multi_ack ofs-delta agent=git/2.39\n`) + pkt(`${B} refs/tags/ml\n`) + pkt(`${A} refs/tags/ml^{}\n`) + '0000');
    expect(lines(narrowAdvertisement(body))).toEqual([
      '# service=git-upload-pack\n',
      '0000',
      `${A} HEAD\0multi_ack ofs-delta agent=git/2.39 symref=HEAD:refs/heads/main\n`,
      `${A} refs/heads/main\n`,
      `${B} refs/tags/ml\n`,
      `${A} refs/tags/ml^{}\n`,
      '0000',
    ]);
  });
  it('drops other branches and a HEAD naming one of them', () => {
    const body = Buffer.from(svc + pkt(`${C} HEAD\0ofs-delta symref=HEAD:refs/heads/trunk\n`) + pkt(`${A} refs/heads/main\n`) + pkt(`${C} refs/heads/trunk\n`) + '0000');
    expect(lines(narrowAdvertisement(body)).slice(2)).toEqual([`${A} HEAD\0ofs-delta symref=HEAD:refs/heads/main\n`, `${A} refs/heads/main\n`, '0000']);
  });
  it('leaves an advertisement without main alone (empty repo, not pyctl)', () => {
    const empty = Buffer.from(svc + pkt(`${'0'.repeat(40)} capabilities^{}\0ofs-delta\n`) + '0000');
    expect(narrowAdvertisement(empty)).toEqual(empty);
  });
});

describe('planPush', () => {
  const base = { remoteName: 'origin', head: A, tags: [{ name: 'ml', oid: B }], remoteMainIsAncestor: false, force: false };
  it('sends main first, then new tags', () => {
    const p = planPush({ ...base, remote: new Map() });
    expect(p.updates).toEqual([
      { ref: 'refs/heads/main', force: false },
      { ref: 'refs/tags/ml', force: false },
    ]);
  });
  it('leaves a diverged main alone, refuses a changed snapshot; force replaces the snapshot, forceMain the main', () => {
    const remote = new Map([
      ['refs/heads/main', C],
      ['refs/tags/ml', C],
    ]);
    expect(() => planPush({ ...base, remote })).toThrow(/snapshot 'ml' already exists on origin with other content/);
    const p = planPush({ ...base, remote, force: true });
    expect(p.main).toBe('diverged');
    expect(p.updates).toEqual([{ ref: 'refs/tags/ml', force: true }]);
    const both = planPush({ ...base, remote, force: true, forceMain: true });
    expect(both.main).toBe('replaced');
    expect(both.updates).toEqual([
      { ref: 'refs/heads/main', force: true },
      { ref: 'refs/tags/ml', force: true },
    ]);
    expect(planPush({ ...base, tags: [], remote }).main).toBe('diverged');
    expect(() => planPush({ ...base, remote, forceMain: true })).toThrow(/already exists/); // --force-main alone replaces no snapshot
  });
  it('sends nothing that is already there', () => {
    expect(
      planPush({
        ...base,
        remote: new Map([
          ['refs/heads/main', A],
          ['refs/tags/ml', B],
        ]),
      }).updates,
    ).toEqual([]);
  });
  it('picks snapshots: named ones, else all but auto/ and baseline', () => {
    expect(snapshotsToPush([], ['baseline', 'auto/before-3', 'ml', 'web'])).toEqual(['ml', 'web']);
    expect(() => snapshotsToPush(['nope'], ['ml'])).toThrow(/no snapshot named 'nope'/);
  });
});

describe('secretFindings', () => {
  it('finds credentials in files, messages and tags, masked', () => {
    const f = secretFindings({
      commits: [{ oid: A, op: 3, message: 'pip install x', files: [{ name: 'freeze.txt', text: 'a==1\nb @ https://bob:hunter2@h/b.tar.gz\n' }] }],
      tags: [{ name: 'ml', message: 'token --token=abc123' }],
    });
    expect(f).toEqual(['commit aaaaaaa (operation 3) freeze.txt line 2: b @ https://bob:****@h/b.tar.gz', 'snapshot ml message line 1: token --token=****']);
    expect(f.join('\n')).not.toMatch(/hunter2|abc123/);
  });
});

describe('remote URLs', () => {
  it('tells the kinds apart and splits userinfo', () => {
    expect(urlKind('https://h/x.git')).toBe('http');
    expect(urlKind('git@github.com:me/env.git')).toBe('ssh');
    expect(urlKind('/srv/env.git')).toBe('file');
    expect(urlKind('nonsense')).toBe(null);
    expect(splitUserinfo('https://alice:s3cret@h/x.git')).toEqual({ url: 'https://h/x.git', username: 'alice', password: 's3cret' });
  });
});

describe('transport kind and plain http', () => {
  it('tells plain http from https and from the git command', () => {
    expect(transportKindOf('https://example.com/env.git')).toBe('https');
    expect(transportKindOf('HTTP://example.com/env.git')).toBe('http');
    expect(transportKindOf('git@example.com:me/env.git')).toBe('git-cli');
    expect(transportKindOf('/srv/env.git')).toBe('git-cli');
  });
  it('warns about credentials only over plain http', () => {
    expect(plainHttpWarning('http://example.com:8080/env.git', 'the token in $PYCTL_GIT_TOKEN')).toBe(
      'warning: sending the token in $PYCTL_GIT_TOKEN to example.com:8080 over plain http://, unencrypted: anyone on the network between can read it; use an https:// URL',
    );
    expect(plainHttpWarning('https://example.com/env.git', 'the token in $PYCTL_GIT_TOKEN')).toBeNull();
  });
});

describe('netProblem', () => {
  const err = (code: string, message: string) => Object.assign(new Error(message), { code });
  it('puts network and TLS errors in words, without OpenSSL text', () => {
    expect(netProblem(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'))?.what).toBe('connection refused');
    const plain = netProblem(err('EPROTO', 'write EPROTO 80CC5F44987F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:'));
    expect(plain?.what).toBe('the server did not answer in TLS (an https:// URL for a server that speaks plain http?)');
    expect(plain?.hint).toMatch(/use http:\/\//);
    expect(netProblem(err('EPROTO', 'write EPROTO 0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1586:'))?.what).toBe(
      'the TLS handshake failed (sslv3 alert handshake failure)',
    );
    expect(netProblem(err('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'))?.what).toBe('TLS certificate problem (SELF_SIGNED_CERT_IN_CHAIN)');
    expect(netProblem(err('EWHATEVER', 'something else'))).toBeNull();
  });
});
