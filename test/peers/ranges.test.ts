/**
 * The adapters' `peerDependencies` say exactly which framework releases the suites run on: for each
 * major, `^<the oldest release tested>`, and the newest release of that major is tested too (the
 * adapter's own development dependency or an alias of matrix.cjs, each run by jest.config.cjs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Release {
  adapter: string;
  adapterDir: string;
  framework: string;
  version: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MATRIX, releases } = require('./matrix.cjs') as { MATRIX: Array<{ adapter: string }>; releases(): Release[] };

const parse = (version: string) => version.split('.').map(Number) as [number, number, number];
const compare = (a: string, b: string) => {
  const [x, y] = [parse(a), parse(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
};

describe.each(MATRIX.map(({ adapter }) => adapter))('@hubauth/%s', (adapter) => {
  const tested = releases().filter((r) => r.adapter === adapter);
  const { adapterDir, framework } = tested[0]!;
  const versions = tested.map((r) => r.version).sort(compare);
  const majors = [...new Set(versions.map((v) => parse(v)[0]))];

  test('every tested release is a release (no pre-release), each once', () => {
    for (const version of versions) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(new Set(versions).size).toBe(versions.length);
  });

  test('each major is tested at both ends: its oldest and its newest release', () => {
    for (const major of majors) expect(versions.filter((v) => parse(v)[0] === major)).toHaveLength(2);
  });

  test('the peer range is ^<oldest tested> for each major tested, nothing more', () => {
    const { peerDependencies = {} } = JSON.parse(readFileSync(join(adapterDir, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> };
    const expected = majors.map((major) => `^${versions.find((v) => parse(v)[0] === major)}`).join(' || ');
    expect({ versions, range: peerDependencies[framework] }).toEqual({ versions, range: expected });
  });
});
