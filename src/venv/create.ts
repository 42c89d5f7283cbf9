// PROVISIONAL (replaced by the fast creator from the wheel branch).
import { execa } from 'execa';
import { PyctlError } from '../errors.js';
export function findPython(spec?: string): string {
  return spec ?? 'python3';
}
export async function createVenv(dir: string, python: string): Promise<{ pythonVersion: string }> {
  const r = await execa(python, ['-m', 'venv', dir], { reject: false });
  if (r.exitCode !== 0) throw new PyctlError('NO_PYTHON', `cannot create a venv with ${python}: ${r.stderr.split('\n').pop()}`, 'install python3-venv');
  return { pythonVersion: '' };
}
