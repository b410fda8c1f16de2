// Run: node --import tsx examples/custom-sender.ts
//
// Wraps senders you wrote yourself (here a few lines of fetch against a JSON push API, the simulator's Expo
// endpoint, so it runs offline): one that throws when a message is refused, and a batch sender that resolves with
// per-message results, which `settle` reads. Prints each outcome, the pruned tokens and the metrics.
import { PushTelemetry, classifyError, type ErrorType, type InvalidTokenEvent } from 'push-telemetry';
import { startSimulator } from 'push-telemetry/simulator';

const sim = await startSimulator({
  providers: ['expo'],
  faults: {
    expo: {
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'busy-*', fault: 'rate_limited' },
        { match: 'down-*', fault: 'provider_unavailable' },
      ],
    },
  },
});
const api = sim.fake('expo').url;

interface Ticket {
  status: 'ok' | 'error';
  id?: string;
  message?: string;
  details?: { error?: string };
}
interface Message {
  to: string;
  title: string;
}

async function post(messages: Message[]): Promise<Ticket[]> {
  const res = await fetch(`${api}/--/api/v2/push/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(messages),
  });
  // A statusCode lets classifyError tell a 503 (provider_unavailable) from a 429 or a 401 without any help.
  if (!res.ok) throw Object.assign(new Error(`push API answered ${res.status}`), { statusCode: res.status });
  return ((await res.json()) as { data: Ticket[] }).data;
}

// The API's own refusal codes, mapped onto the taxonomy; anything else falls back to classifyError.
const CODES: Record<string, ErrorType> = {
  DeviceNotRegistered: 'unregistered',
  MessageRateExceeded: 'rate_limited',
  MessageTooBig: 'payload_too_large',
};
const codeOf = (error: unknown): string => String((error as { code?: unknown }).code ?? '');

const telemetry = new PushTelemetry({ app: 'com.example.app' });
const onInvalidToken = ({ token, errorType }: InvalidTokenEvent) => console.log(`  prune ${token} (${errorType})`);

// One message per call: a refusal throws, so the wrapper counts it failed and the caller sees the same error.
const sendOne = telemetry.wrapSender(
  async (message: Message): Promise<string> => {
    const [ticket] = await post([message]);
    if (ticket?.status !== 'ok')
      throw Object.assign(new Error(ticket?.message ?? 'refused'), { code: ticket?.details?.error });
    return ticket.id ?? '';
  },
  {
    provider: 'custom',
    tokens: ([message]) => [message.to],
    classify: (error) => CODES[codeOf(error)] ?? classifyError(error),
    onInvalidToken,
  },
);

// Many messages per call, resolving with one ticket each: `settle` says which were accepted and why others failed.
const sendBatch = telemetry.wrapSender((messages: Message[]) => post(messages), {
  provider: 'custom',
  operation: 'send_batch',
  countMessages: ([messages]) => messages.length,
  settle: (tickets, [messages]) => ({
    accepted: tickets.filter((t) => t.status === 'ok').length,
    failed: tickets.flatMap((t, i) =>
      t.status === 'ok'
        ? []
        : [{ errorType: CODES[t.details?.error ?? ''] ?? 'unknown', reason: t.details?.error, token: messages[i]?.to }],
    ),
  }),
  onInvalidToken,
});

for (const to of ['ok-1', 'gone-1', 'down-1']) {
  await sendOne({ to, title: 'Hello' }).then(
    (id) => console.log(`sendOne ${to}: accepted, id ${id.slice(0, 8)}`),
    (error: Error) => console.log(`sendOne ${to}: failed: ${error.message}`),
  );
}
const batch = ['ok-2', 'ok-3', 'ok-4', 'gone-2', 'busy-1'].map((to) => ({ to, title: 'Digest' }));
const tickets = await sendBatch(batch);
console.log(`sendBatch: ${tickets.filter((t) => t.status === 'ok').length} of ${batch.length} accepted`);

const metrics = await telemetry.registry.metrics();
// Every series exists from the first call (zeros included, so rate() works); print the non-zero ones.
console.log(
  metrics
    .split('\n')
    .filter((line) => /^push_(messages_total|request_duration_seconds_count)\{.* [1-9]/.test(line))
    .join('\n'),
);
await sim.close();
