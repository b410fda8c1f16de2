import { createReceiptStamp, RECEIPT_STAMP_KEY } from '../delivery/stamp.js';
import type { DeviceFleet } from '../simulator/devices.js';
import type { DemoClients } from './clients/index.js';
import { DEMO_APP } from './clients/types.js';
import type { SendFunction } from './sender-service.js';

/**
 * Every demo message carries the receipt stamp in its data (signed with a secret made for the run), and what the
 * provider accepted goes to the fake devices, which post their receipts back to the sender service's endpoint.
 */
export function stampedSend(
  clients: DemoClients,
  secret: string,
  devices: () => DeviceFleet | undefined,
): SendFunction {
  return async (provider, tokens, notification) => {
    const stamp = createReceiptStamp(provider, { app: DEMO_APP, secret });
    const data = { ...notification.data, [RECEIPT_STAMP_KEY]: JSON.stringify(stamp) };
    const outcome = await clients.send(provider, tokens, { ...notification, data });
    if (outcome.accepted > 0) devices()?.accepted(stamp, outcome.accepted);
    return outcome;
  };
}
