/**
 * SCPI program headers as an instrument parses them (SCPI-99 vol. 1 §6.2): each node may be sent in
 * its short form (the upper-case part of the mnemonic, `MEAS`) or its long form (`MEASURE`), in any
 * case; a node in brackets (`[:DC]`) may be left out; a leading `:` is the root. Patterns are
 * written as in instrument manuals: `MEASure:VOLTage[:DC]?`.
 */
import { ArgumentError } from '../../sdk/core/errors.js';

interface Node {
  readonly short: string;
  readonly long: string;
  readonly optional: boolean;
}

/** A compiled header pattern. */
export interface HeaderPattern {
  readonly text: string;
  readonly query: boolean;
  /** Whether `header` (a received program header, e.g. `meas:volt?`) matches. */
  matches(header: string): boolean;
}

/**
 * Compiles a manual-style pattern.
 *
 * @example
 * ```ts
 * const pattern = headerPattern('MEASure:VOLTage[:DC]?')
 * pattern.matches('MEAS:VOLT?')            // true
 * pattern.matches(':measure:voltage:dc?')  // true
 * pattern.matches('MEASU:VOLT?')           // false: neither the short nor the long form
 * ```
 */
export function headerPattern(text: string): HeaderPattern {
  const query = text.endsWith('?');
  const body = query ? text.slice(0, -1) : text;
  const nodes: Node[] = [];
  if (body.startsWith('*')) {
    nodes.push({ short: body.toUpperCase(), long: body.toUpperCase(), optional: false });
  } else {
    const tokens = body.match(/\[:?[A-Za-z0-9]+\]|:?[A-Za-z0-9]+/g) ?? [];
    if (tokens.join('').replace(/[[\]:]/g, '') !== body.replace(/[[\]:]/g, '')) throw new ArgumentError(`Expected an SCPI header pattern, got "${text}"`);
    for (const token of tokens) {
      const optional = token.startsWith('[');
      const mnemonic = token.replace(/[[\]:]/g, '');
      const short = mnemonic.replace(/[a-z]+$/, '').replace(/[a-z]/g, '');
      nodes.push({ short: short === '' ? mnemonic.toUpperCase() : short, long: mnemonic.toUpperCase(), optional });
    }
  }
  return {
    text,
    query,
    matches(header) {
      const h = header.trim().toUpperCase();
      if (h.endsWith('?') !== query) return false;
      const received = (query ? h.slice(0, -1) : h).replace(/^:/, '');
      if (received.startsWith('*') || nodes[0]?.short.startsWith('*')) return received === nodes[0]?.short;
      return matchNodes(received.split(':'), 0, nodes, 0);
    },
  };
}

function matchNodes(received: readonly string[], r: number, nodes: readonly Node[], n: number): boolean {
  if (n === nodes.length) return r === received.length;
  const node = nodes[n]!;
  const here = received[r];
  if (here !== undefined && (here === node.short || here === node.long) && matchNodes(received, r + 1, nodes, n + 1)) return true;
  return node.optional && matchNodes(received, r, nodes, n + 1);
}

/**
 * Splits one program message unit into its header and its parameters (comma-separated, trimmed).
 *
 * @example
 * ```ts
 * splitMessage('SOUR:VOLT 12.5')   // { header: 'SOUR:VOLT', parameters: ['12.5'] }
 * splitMessage('SIM:DIP 30, 500')  // { header: 'SIM:DIP', parameters: ['30', '500'] }
 * ```
 */
export function splitMessage(message: string): { header: string; parameters: string[] } {
  const text = message.trim();
  const space = text.search(/\s/);
  if (space < 0) return { header: text, parameters: [] };
  const rest = text.slice(space + 1).trim();
  return { header: text.slice(0, space), parameters: rest === '' ? [] : rest.split(',').map((p) => p.trim()) };
}
