import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** true when `dir` is a manifest repository: a directory holding a stead.yaml file. */
export async function isRepositoryDir(dir: string): Promise<boolean> {
  const st = await stat(join(dir, 'stead.yaml')).catch(() => undefined);
  return st?.isFile() === true;
}
