import { importOptional } from '../optional-package.js';

export interface TlsIdentity {
  readonly key: string;
  readonly cert: string;
}

let identity: Promise<TlsIdentity> | undefined;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made once per process: the fake providers speak real TLS
 * (APNs and FCM clients insist on it) and no private key is ever committed.
 */
export function loopbackIdentity(): Promise<TlsIdentity> {
  identity ??= (async () => {
    const { default: selfsigned } = await importOptional(
      'selfsigned',
      "The simulator's TLS certificate",
      () => import('selfsigned'),
    );
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'push-telemetry simulator' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    return { key: pems.private, cert: pems.cert };
  })();
  return identity;
}
