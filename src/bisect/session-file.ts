/** Where manual bisect keeps its session between commands: one small JSON file, not a commit. */
import { join } from 'node:path';
import type { HomePaths } from '../paths.js';

export const sessionPath = (paths: HomePaths): string => join(paths.runtime, 'bisect.json');
