import { L2_ECHO_P4INFO_OBJECT } from '../programs/l2-echo/l2-echo-p4info.js';
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const ENUMS = new Set(['matchType', 'idleTimeoutBehavior', 'unit', 'scope']);
function pr(obj: Record<string, unknown>, ind: string): string {
  let out = '';
  for (const [k, v] of Object.entries(obj)) {
    const key = snake(k);
    const items = Array.isArray(v) ? v : [v];
    for (const it of items) {
      if (k === 'structs') {
        for (const [sk, sv] of Object.entries(it as object)) out += `${ind}${key} {\n${ind}  key: "${sk}"\n${ind}  value {\n${pr(sv as Record<string, unknown>, ind + '    ')}${ind}  }\n${ind}}\n`;
      } else if (typeof it === 'object' && it !== null) out += `${ind}${key} {\n${pr(it as Record<string, unknown>, ind + '  ')}${ind}}\n`;
      else if (typeof it === 'string' && !ENUMS.has(k)) out += `${ind}${key}: ${JSON.stringify(it)}\n`;
      else out += `${ind}${key}: ${it}\n`;
    }
  }
  return out;
}
const head = '# proto-file: p4/config/v1/p4info.proto\n# proto-message: p4.config.v1.P4Info\n# l2_echo.p4 (sim test program); generated from l2-echo-p4info.ts — keep the two identical.\n\n';
process.stdout.write(head + pr(L2_ECHO_P4INFO_OBJECT as unknown as Record<string, unknown>, ''));
