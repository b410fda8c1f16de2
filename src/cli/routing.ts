/**
 * The demo's Alertmanager configuration: the shipped alerts/alertmanager.example.yml with its routes and inhibitions
 * kept, every receiver (PagerDuty, Slack… with placeholder keys) replaced by a webhook into the demo, and the group
 * timings shortened so a page shows up in seconds. Text surgery on top-level blocks, as the package ships no YAML
 * parser: a file this cannot rewrite falls back to a one-route config (the caller says so).
 */

export interface DemoRouting {
  readonly yaml: string;
  readonly receivers: readonly string[];
}

interface Block {
  readonly key: string | undefined;
  readonly lines: string[];
}

/** Splits YAML into its top-level keys (a line at column 0 `key:` starts one); comments and blanks stay with the block. */
function topLevelBlocks(yaml: string): Block[] {
  const blocks: Block[] = [];
  for (const line of yaml.split('\n')) {
    const key = /^([A-Za-z_][\w-]*):/.exec(line)?.[1];
    if (key !== undefined || blocks.length === 0) blocks.push({ key, lines: [line] });
    else (blocks[blocks.length - 1] as Block).lines.push(line);
  }
  return blocks;
}

function webhookReceivers(names: readonly string[], webhookUrl: string): string[] {
  return [
    'receivers:',
    ...names.flatMap((name) => [
      `  - name: ${JSON.stringify(name)}`,
      '    webhook_configs:',
      `      - url: ${JSON.stringify(`${webhookUrl}/${encodeURIComponent(name)}`)}`,
      '        send_resolved: true',
    ]),
  ];
}

export function minimalRouting(webhookUrl: string): DemoRouting {
  const yaml = [
    'route:',
    '  receiver: demo',
    '  group_by: [alertname, provider]',
    '  group_wait: 1s',
    '  group_interval: 5s',
    '  repeat_interval: 1h',
    ...webhookReceivers(['demo'], webhookUrl),
    '',
  ].join('\n');
  return { yaml, receivers: ['demo'] };
}

/** The shipped routing with webhook receivers; undefined when the file has no receivers block to rewrite. */
export function demoRouting(example: string, webhookUrl: string): DemoRouting | undefined {
  const blocks = topLevelBlocks(example);
  const receiversBlock = blocks.find((block) => block.key === 'receivers');
  if (receiversBlock === undefined || !blocks.some((block) => block.key === 'route')) return undefined;
  // A receiver is a list item whose first key is name, at the list's own indentation.
  const names = receiversBlock.lines
    .map((line) => /^(\s*)-\s+name:\s*['"]?([^'"#\s]+)['"]?/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .filter((match, _i, all) => (match[1] as string).length === (all[0] as RegExpExecArray)[1]?.length)
    .map((match) => match[2] as string);
  if (names.length === 0) return undefined;
  const kept = blocks
    // global holds the real services' URLs and keys, templates point at files the demo does not have.
    .filter((block) => block.key !== 'global' && block.key !== 'templates')
    .flatMap((block) => (block === receiversBlock ? webhookReceivers(names, webhookUrl) : block.lines));
  const yaml = kept
    .join('\n')
    .replace(/^([ \t]*)group_wait:[ \t]*\S+/gm, '$1group_wait: 1s')
    .replace(/^([ \t]*)group_interval:[ \t]*\S+/gm, '$1group_interval: 5s')
    .replace(/^([ \t]*)repeat_interval:[ \t]*\S+/gm, '$1repeat_interval: 1h');
  return { yaml, receivers: names };
}
