/**
 * The SDKs are optional peer dependencies of push-telemetry (devDependencies here), so the CLI imports them only
 * when a command needs them and turns "module not found" into an instruction.
 */

import { isModuleNotFound } from '../../optional-package.js';

export const DEMO_SDKS = [
  'firebase-admin',
  '@parse/node-apn',
  'web-push',
  'expo-server-sdk',
  '@aws-sdk/client-sns',
] as const;

export class MissingSdkError extends Error {
  override readonly name = 'MissingSdkError';
}

/** `await import(specifier)`, or a MissingSdkError naming the package and the install command. */
export async function loadSdk<T>(specifier: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isModuleNotFound(error, specifier)) throw error;
    throw new MissingSdkError(
      `the demo sends through the real provider SDKs, and ${specifier} is not installed.\n` +
        `Install them next to push-telemetry: npm install --save-dev ${DEMO_SDKS.join(' ')}`,
    );
  }
}
