/** PEP 503 project names. */

/** PEP 503 canonical name: lowercase, runs of -_. become '-'. */
export function canonicalName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
