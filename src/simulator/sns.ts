import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closer, listen, newStats, type FakeProvider, type FakeProviderOptions } from './fake.js';
import { delay, type Fault } from './faults.js';

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
// SNS's limits: 256 KiB per message and per PublishBatch request, 10 entries per batch.
const MAX_BYTES = 262_144;
const MAX_ENTRIES = 10;

interface SnsError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

type GenericFault = Exclude<Extract<Fault, string>, 'hang' | 'reset'>;

/** The answer SNS typically gives for each failure class (awsQuery codes and statuses as the SDK's model has them). */
const GENERIC_ERRORS: Readonly<Record<GenericFault, SnsError>> = {
  unregistered: { status: 400, code: 'EndpointDisabled', message: 'Endpoint is disabled' },
  // SNS has no invalid-token code: a bad endpoint ARN is one more InvalidParameter (the adapter's payload_invalid).
  invalid_token: { status: 400, code: 'InvalidParameter', message: 'Invalid parameter: TargetArn' },
  auth: { status: 403, code: 'AuthorizationError', message: 'User is not authorized to perform: SNS:Publish' },
  config: { status: 404, code: 'NotFound', message: 'Topic does not exist' },
  payload_invalid: {
    status: 400,
    code: 'InvalidParameter',
    message: 'Invalid parameter: Message Structure - JSON message body failed to parse',
  },
  payload_too_large: { status: 400, code: 'InvalidParameter', message: 'Invalid parameter: Message too long' },
  rate_limited: { status: 429, code: 'Throttled', message: 'Rate exceeded' },
  provider_unavailable: { status: 500, code: 'InternalError', message: 'Internal Error' },
};
const PLATFORM_DISABLED: SnsError = {
  status: 400,
  code: 'PlatformApplicationDisabled',
  message: 'Platform application is disabled',
};

const escapeXml = (text: string): string => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function errorOf(fault: Exclude<Fault, 'hang' | 'reset'>, key: string): SnsError {
  if (typeof fault === 'object') return { status: fault.status, code: fault.reason, message: fault.reason };
  // A disabled platform application is what a push endpoint's misconfiguration looks like; topics get NotFound.
  return fault === 'config' && key.includes(':endpoint/') ? PLATFORM_DISABLED : GENERIC_ERRORS[fault];
}

function send(res: ServerResponse, status: number, requestId: string, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(xml);
}

function answer(res: ServerResponse, action: string, result: string): void {
  const requestId = randomUUID();
  const body = result === '' ? '' : `<${action}Result>${result}</${action}Result>`;
  send(
    res,
    200,
    requestId,
    `<${action}Response xmlns="${XMLNS}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

function refuse(res: ServerResponse, error: SnsError): void {
  const requestId = randomUUID();
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  send(
    res,
    error.status,
    requestId,
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

interface Entry {
  readonly id: string;
  readonly message: string;
}

/** awsQuery flattens lists as `PublishBatchRequestEntries.member.N.Field`, N from 1. */
function batchEntries(form: URLSearchParams): Entry[] {
  const entries: Entry[] = [];
  for (let n = 1; form.has(`PublishBatchRequestEntries.member.${n}.Id`); n++) {
    const prefix = `PublishBatchRequestEntries.member.${n}.`;
    entries.push({ id: form.get(`${prefix}Id`) ?? '', message: form.get(`${prefix}Message`) ?? '' });
  }
  return entries;
}

/**
 * A fake Amazon SNS speaking the awsQuery protocol of @aws-sdk/client-sns v3 (form-encoded POST, XML answers) over
 * plain HTTP. Faults are keyed by the Publish recipient (TargetArn, else TopicArn, else PhoneNumber) and, in a
 * PublishBatch, by each entry's Id: a faulted entry lands in `Failed` with the fault's code, while `hang` or `reset`
 * drawn by any entry takes the whole request down. Other actions always succeed and are never faulted.
 */
export async function startFakeSns(options: FakeProviderOptions): Promise<FakeProvider> {
  const { faults } = options;
  const stats = newStats();

  async function publish(form: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const key = form.get('TargetArn') ?? form.get('TopicArn') ?? form.get('PhoneNumber') ?? '';
    const message = form.get('Message');
    const fault = faults.pick(key);
    if (fault === 'hang' || fault === 'reset') {
      stats.refused++;
      if (fault === 'reset') req.socket.destroy();
      else faults.hold(res, () => req.socket.destroy());
      return;
    }
    await delay(faults.latencyMs);
    const error =
      fault !== undefined
        ? errorOf(fault, key)
        : message === null || message === ''
          ? { status: 400, code: 'InvalidParameter', message: 'Invalid parameter: Empty message' }
          : Buffer.byteLength(message) > MAX_BYTES
            ? GENERIC_ERRORS.payload_too_large
            : undefined;
    if (error !== undefined) {
      stats.refused++;
      refuse(res, error);
      return;
    }
    stats.accepted++;
    answer(res, 'Publish', `<MessageId>${randomUUID()}</MessageId>`);
  }

  async function publishBatch(form: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entries = batchEntries(form);
    const whole: SnsError | undefined =
      entries.length === 0
        ? { status: 400, code: 'EmptyBatchRequest', message: 'The batch request does not contain any entries' }
        : entries.length > MAX_ENTRIES
          ? {
              status: 400,
              code: 'TooManyEntriesInBatchRequest',
              message: `The batch request contains more entries than permissible (${MAX_ENTRIES})`,
            }
          : entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.message), 0) > MAX_BYTES
            ? {
                status: 400,
                code: 'BatchRequestTooLong',
                message: 'The length of all the messages put together is more than the limit',
              }
            : undefined;
    const drawn = whole === undefined ? entries.map((entry) => faults.pick(entry.id)) : [];
    const fatal = drawn.find((fault) => fault === 'hang' || fault === 'reset');
    if (whole !== undefined || fatal !== undefined) {
      stats.refused += entries.length;
      if (fatal === 'reset') req.socket.destroy();
      if (fatal === 'hang') faults.hold(res, () => req.socket.destroy());
      if (fatal !== undefined) return;
      await delay(faults.latencyMs);
      refuse(res, whole as SnsError);
      return;
    }
    await delay(faults.latencyMs);
    let successful = '';
    let failed = '';
    entries.forEach((entry, i) => {
      const fault = drawn[i] as Exclude<Fault, 'hang' | 'reset'> | undefined;
      if (fault === undefined) {
        stats.accepted++;
        successful += `<member><Id>${escapeXml(entry.id)}</Id><MessageId>${randomUUID()}</MessageId></member>`;
        return;
      }
      const error = errorOf(fault, form.get('TopicArn') ?? '');
      stats.refused++;
      failed += `<member><Id>${escapeXml(entry.id)}</Id><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message><SenderFault>${error.status < 500}</SenderFault></member>`;
    });
    answer(res, 'PublishBatch', `<Successful>${successful}</Successful><Failed>${failed}</Failed>`);
  }

  /** Just enough of the rest of the API for clients that list topics or register devices against the fake. */
  async function other(action: string, form: URLSearchParams, res: ServerResponse): Promise<void> {
    await delay(faults.latencyMs);
    if (action === 'ListTopics')
      return answer(
        res,
        action,
        '<Topics><member><TopicArn>arn:aws:sns:us-east-1:000000000000:simulator</TopicArn></member></Topics>',
      );
    if (action === 'CreatePlatformEndpoint') {
      const id = createHash('sha256')
        .update(form.get('Token') ?? '')
        .digest('hex')
        .slice(0, 32);
      return answer(
        res,
        action,
        `<EndpointArn>arn:aws:sns:us-east-1:000000000000:endpoint/GCM/simulator/${id}</EndpointArn>`,
      );
    }
    answer(res, action, '');
  }

  const server = createServer((req, res) => {
    stats.requests++;
    readBody(req)
      .then((form) => {
        const action = form.get('Action') ?? '';
        if (action === 'Publish') return publish(form, req, res);
        if (action === 'PublishBatch') return publishBatch(form, req, res);
        if (/^[A-Z][A-Za-z]{1,63}$/.test(action)) return other(action, form, res);
        refuse(res, { status: 400, code: 'InvalidAction', message: 'The action or operation requested is invalid' });
      })
      .catch(() => req.socket.destroy());
  });
  const close = closer(server);
  const port = await listen(server, options.host, options.port);
  return { provider: 'sns', url: `http://${options.host}:${port}`, port, faults, stats, close };
}
