// Protocol-buffer text format (Caffe's .prototxt) -> a protobufjs message of the given type.
// Fields the schema does not declare are skipped (prototxts carry training settings such as param{lr_mult}).
import protobuf from 'protobufjs';
import { ImportFileError } from './errors';

type Scalar = string | number | boolean;
interface Entry {
  name: string;
  value: Scalar | Entry[];
  line: number;
}

export function parsePrototxt(text: string, type: protobuf.Type, fileName: string): protobuf.Message {
  const entries = new Parser(text, fileName).parseBlock(false);
  const plain = toPlain(entries, type, fileName);
  try {
    return type.fromObject(plain);
  } catch (err) {
    throw new ImportFileError(`${fileName}: ${(err as Error).message}`);
  }
}

function toPlain(entries: Entry[], type: protobuf.Type, fileName: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of entries) {
    const field = type.fields[e.name];
    if (!field) continue;
    field.resolve();
    let value: unknown;
    if (field.resolvedType instanceof protobuf.Type) {
      if (!Array.isArray(e.value)) throw new ImportFileError(`${fileName} line ${e.line}: ${e.name} needs a { ... } block`);
      value = toPlain(e.value, field.resolvedType, fileName);
    } else {
      if (Array.isArray(e.value)) throw new ImportFileError(`${fileName} line ${e.line}: ${e.name} takes a value, not a block`);
      value = field.resolvedType instanceof protobuf.Enum ? e.value : field.type === 'bool' ? e.value === true || e.value === 'true' : e.value;
      if (field.resolvedType instanceof protobuf.Enum && !(String(value) in field.resolvedType.values)) {
        throw new ImportFileError(`${fileName} line ${e.line}: ${e.name}: ${String(value)} is not one of ${Object.keys(field.resolvedType.values).join(', ')}`);
      }
    }
    if (field.repeated) ((out[e.name] ??= []) as unknown[]).push(value);
    else out[e.name] = value;
  }
  return out;
}

class Parser {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly fileName: string,
  ) {}

  parseBlock(nested: boolean): Entry[] {
    const entries: Entry[] = [];
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.text.length) {
        if (nested) this.fail('a { block is not closed');
        return entries;
      }
      if (this.text[this.pos] === '}') {
        if (!nested) this.fail('unexpected }');
        this.pos++;
        return entries;
      }
      const line = this.line;
      const name = this.identifier();
      this.skipSpace();
      let colon = false;
      if (this.text[this.pos] === ':') {
        this.pos++;
        colon = true;
        this.skipSpace();
      }
      if (this.text[this.pos] === '{') {
        this.pos++;
        entries.push({ name, value: this.parseBlock(true), line });
      } else if (!colon) {
        this.fail(`expected ':' or '{' after ${name}`);
      } else if (this.text[this.pos] === '[') {
        this.pos++;
        for (;;) {
          this.skipSpace();
          if (this.text[this.pos] === ']') {
            this.pos++;
            break;
          }
          entries.push({ name, ...this.scalar(), line });
          this.skipSpace();
          if (this.text[this.pos] === ',') this.pos++;
        }
      } else {
        entries.push({ name, ...this.scalar(), line });
      }
      this.skipSpace();
      if (this.text[this.pos] === ',' || this.text[this.pos] === ';') this.pos++;
    }
  }

  private scalar(): { value: Scalar } {
    const ch = this.text[this.pos];
    if (ch === '"' || ch === "'") return { value: this.string(ch) };
    const m = /^[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf|nan)f?/i.exec(this.text.slice(this.pos, this.pos + 64));
    if (m) {
      this.pos += m[0].length;
      const t = m[0].replace(/f$/i, '').toLowerCase();
      return { value: t.endsWith('inf') ? (t.startsWith('-') ? -Infinity : Infinity) : t === 'nan' ? NaN : Number(t) };
    }
    const id = this.identifier();
    return { value: id === 'true' ? true : id === 'false' ? false : id };
  }

  private string(quote: string): string {
    let out = '';
    this.pos++;
    while (this.pos < this.text.length && this.text[this.pos] !== quote) {
      const ch = this.text[this.pos++];
      if (ch === '\n') this.fail('a string is not closed on its line');
      if (ch === '\\') {
        const next = this.text[this.pos++];
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      } else out += ch;
    }
    if (this.pos >= this.text.length) this.fail('a string is not closed');
    this.pos++;
    return out;
  }

  private identifier(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(this.text.slice(this.pos, this.pos + 256));
    if (!m) this.fail(`unexpected ${JSON.stringify(this.text.slice(this.pos, this.pos + 12))}`);
    this.pos += m![0].length;
    return m![0];
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (ch === '#') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      } else if (ch === '\n') {
        this.line++;
        this.pos++;
      } else if (ch === ' ' || ch === '\t' || ch === '\r') this.pos++;
      else break;
    }
  }

  private fail(why: string): never {
    throw new ImportFileError(`${this.fileName} line ${this.line}: ${why} (is it a Caffe prototxt?)`);
  }
}
