/**
 * `sensorkit opcua`: the OPC UA server's PKI and users — list and trust client certificates,
 * add and remove users of the users file (scrypt hashes). Nothing here loads node-opcua.
 */
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PKI_DIR, listCertificates, trustCertificate } from '../transport/opcua/pki.js';
import { UsersFile, hashPassword } from '../transport/opcua/users.js';
import { OPERATOR_ROLES, isOperatorRole } from '../model/roles.js';
import type { OperatorRole } from '../model/spec.js';
import { DEFAULT_USERS_FILE } from '../runtime/opcua-side.js';
import { UsageError } from './usage.js';

export const OPCUA_HELP = `Usage: sensorkit opcua <list|trust|user> … [options]

Manages the OPC UA server's certificates and users. A client whose certificate the server does
not trust is refused, and its certificate lands in <pki>/rejected; trust it by its thumbprint.

  opcua list                   client certificates, trusted and rejected, with thumbprints
  opcua trust THUMBPRINT       trust a rejected client certificate (its SHA-1 thumbprint, or a
                               unique prefix of at least 8 hex digits)
  opcua user add NAME [--role ROLE]
                               add a user, or set a user's password; the password is read from
                               standard input (one line), never from the command line. ROLE:
                               viewer, operator, engineer or security-admin (what the user may
                               call and write; without one, engineer)
  opcua user role NAME ROLE    change a user's role
  opcua user remove NAME       remove a user
  opcua user list              user names and roles

Options:
  --pki DIR                    PKI folder (default: ${DEFAULT_PKI_DIR})
  --x509-users                 list and trust: X.509 user certificates (<pki>/users) instead
  --users FILE                 users file (default: ${DEFAULT_USERS_FILE})
  -h, --help                   show this help

Examples:
  sensorkit opcua list
  sensorkit opcua trust 3f2a9c01
  printf '%s\\n' "$PASSWORD" | sensorkit opcua user add olga --role operator
  sensorkit opcua user role olga engineer
`;

/** Runs the `opcua` verb; resolves with the exit code. */
export async function opcuaCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      pki: { type: 'string' },
      users: { type: 'string' },
      role: { type: 'string' },
      'x509-users': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(OPCUA_HELP);
    return 0;
  }
  const pki = resolve(values.pki ?? DEFAULT_PKI_DIR);
  const scope = values['x509-users'] ? 'users' : 'clients';
  const [action, ...rest] = positionals;
  const out = process.stdout;
  switch (action) {
    case 'list': {
      expectArguments('list', rest, 0);
      const certificates = await listCertificates(pki, scope);
      if (certificates.length === 0) out.write(`no ${scope === 'users' ? 'user' : 'client'} certificates in ${pki}\n`);
      for (const c of certificates) out.write(`${c.state.padEnd(8)}  ${c.thumbprint}  ${c.subject}  (valid until ${c.notAfter})\n`);
      return 0;
    }
    case 'trust': {
      const [thumbprint] = expectArguments('trust', rest, 1);
      const trusted = await trustCertificate(pki, thumbprint!, scope);
      out.write(`trusted ${trusted.thumbprint}  ${trusted.subject}\n`);
      return 0;
    }
    case 'user':
      return userCommand(rest, resolve(values.users ?? DEFAULT_USERS_FILE), values.role);
    case undefined:
      throw new UsageError('opcua: expected list, trust or user');
    default:
      throw new UsageError(`opcua: unknown action "${action}"; expected list, trust or user`);
  }
}

async function userCommand(args: readonly string[], file: string, role: string | undefined): Promise<number> {
  const [action, ...rest] = args;
  if (role !== undefined && action !== 'add') throw new UsageError(`opcua user ${action ?? ''}: --role is for user add (use: opcua user role NAME ROLE)`);
  const users = await UsersFile.load(file);
  switch (action) {
    case 'add': {
      const [name] = expectArguments('user add', rest, 1);
      const checked = role === undefined ? undefined : roleOption(role);
      const password = await readPasswordLine();
      await users.set(await hashPassword(name!, password, checked));
      process.stdout.write(`user ${name} saved in ${file}${checked === undefined ? '' : ` (role ${checked})`}\n`);
      return 0;
    }
    case 'role': {
      const [name, newRole] = expectArguments('user role', rest, 2);
      if (!users.names().includes(name!)) throw new UsageError(`user role: no user "${name}" in ${file}`);
      await users.setRole(name!, roleOption(newRole!));
      process.stdout.write(`user ${name} now has the role ${newRole}\n`);
      return 0;
    }
    case 'remove': {
      const [name] = expectArguments('user remove', rest, 1);
      if (!(await users.remove(name!))) throw new UsageError(`user remove: no user "${name}" in ${file}`);
      process.stdout.write(`user ${name} removed\n`);
      return 0;
    }
    case 'list':
      expectArguments('user list', rest, 0);
      for (const name of users.names()) process.stdout.write(`${name}  ${users.roleOf(name) ?? 'engineer (no role set)'}\n`);
      return 0;
    default:
      throw new UsageError(`opcua user: expected add, role, remove or list${action === undefined ? '' : `, got "${action}"`}`);
  }
}

function roleOption(text: string): OperatorRole {
  if (!isOperatorRole(text)) throw new UsageError(`--role: expected one of ${OPERATOR_ROLES.join(', ')}, got "${text}"`);
  return text;
}

function expectArguments(action: string, args: readonly string[], count: number): readonly string[] {
  if (args.length !== count) throw new UsageError(`opcua ${action}: expected ${count === 0 ? 'no arguments' : `${count} argument${count > 1 ? 's' : ''}`}, got ${args.length}`);
  return args;
}

/** The first line of standard input (a password is never a command-line argument: `ps` shows those). */
async function readPasswordLine(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}
