/**
 * Packages only the simulator, the CLI or the dashboard generator need are optional peers: a user who wraps a sender
 * never installs or loads them. They are imported where they are needed, and a missing one becomes an instruction.
 */

export class MissingPackageError extends Error {
  override readonly name = 'MissingPackageError';
}

/** The package part of an import specifier: `@scope/name` or `name`. */
function packageOf(specifier: string): string {
  return specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}

/** True when `error` is Node's "cannot find" for the package of `specifier` (not for something it imports itself). */
export function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${packageOf(specifier)}'`)
  );
}

/** `await load()`, or a MissingPackageError saying what needs `specifier` and how to install it. */
export async function importOptional<T>(specifier: string, purpose: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isModuleNotFound(error, specifier)) throw error;
    const name = packageOf(specifier);
    throw new MissingPackageError(
      `${purpose} needs the optional package ${name}, which is not installed: npm install --save-dev ${name}`,
    );
  }
}
