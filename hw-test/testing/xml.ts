/**
 * A small strict XML reader for tests: parses a document into elements (name, attributes,
 * children, text) and throws on anything not well-formed — unclosed or mismatched tags, duplicate
 * attributes, bare `&` or `<`, unknown entities, text outside the root. Enough to prove hw-test's
 * JUnit output is XML a CI system can read; no DTDs, no namespaces.
 */

/** One element. */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  readonly text: string;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`xml: '<' in text or attribute value near offset ${where}`);
  return raw.replace(/&([^;\s&]*);?/g, (m, name: string) => {
    if (!m.endsWith(';')) throw new Error(`xml: bare '&' near offset ${where}`);
    const num = /^#(x[0-9a-fA-F]+|\d+)$/.exec(name);
    if (num) return String.fromCodePoint(Number(num[1]?.startsWith('x') ? `0${num[1]}` : num[1]));
    const e = ENTITIES[name];
    if (e === undefined) throw new Error(`xml: unknown entity '&${name};' near offset ${where}`);
    return e;
  });
}

/** Parses a whole document; returns the root element. */
export function parseXml(doc: string): XmlElement {
  let i = 0;
  const skipWs = (): void => {
    while (i < doc.length && /\s/.test(doc[i] ?? '')) i++;
  };
  const expect = (s: string): void => {
    if (!doc.startsWith(s, i)) throw new Error(`xml: expected '${s}' at offset ${i}, found '${doc.slice(i, i + 20)}'`);
    i += s.length;
  };
  const name = (): string => {
    const m = /^[A-Za-z_][\w.-]*/.exec(doc.slice(i));
    if (!m) throw new Error(`xml: expected a name at offset ${i}`);
    i += m[0].length;
    return m[0];
  };
  const element = (): XmlElement => {
    expect('<');
    const tag = name();
    const attrs: Record<string, string> = {};
    for (;;) {
      skipWs();
      if (doc.startsWith('/>', i)) {
        i += 2;
        return { name: tag, attrs, children: [], text: '' };
      }
      if (doc[i] === '>') {
        i++;
        break;
      }
      const a = name();
      skipWs();
      expect('=');
      skipWs();
      const q = doc[i];
      if (q !== '"' && q !== "'") throw new Error(`xml: attribute '${a}' of <${tag}> is not quoted (offset ${i})`);
      const end = doc.indexOf(q, i + 1);
      if (end < 0) throw new Error(`xml: unterminated value of attribute '${a}'`);
      if (a in attrs) throw new Error(`xml: duplicate attribute '${a}' on <${tag}>`);
      attrs[a] = unescape(doc.slice(i + 1, end), i);
      i = end + 1;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const lt = doc.indexOf('<', i);
      if (lt < 0) throw new Error(`xml: <${tag}> is never closed`);
      text += unescape(doc.slice(i, lt), i);
      i = lt;
      if (doc.startsWith('</', i)) {
        i += 2;
        const close = name();
        if (close !== tag) throw new Error(`xml: </${close}> closes <${tag}> (offset ${i})`);
        skipWs();
        expect('>');
        return { name: tag, attrs, children, text };
      }
      children.push(element());
    }
  };
  if (doc.startsWith('<?xml')) {
    const end = doc.indexOf('?>');
    if (end < 0) throw new Error('xml: unterminated declaration');
    i = end + 2;
  }
  skipWs();
  const root = element();
  skipWs();
  if (i !== doc.length) throw new Error(`xml: content after the root element at offset ${i}`);
  return root;
}
