/**
 * Passwords a guesser tries first, recognised by pattern rather than by a copied list (NIST SP
 * 800-63B §5.1.1.2: compare against values known to be commonly used, expected or compromised):
 * a common word or name with digits or symbols around it and letters swapped for look-alikes
 * (`Passw0rd!`, `summer2024`, `123admin`), keyboard walks (`qwertyui`, `1qaz2wsx`, `asdfghjk`),
 * one character repeated (`aaaaaaaa`), a short pattern repeated (`abcabcabc`, `12121212`), runs of
 * letters or digits (`abcdefgh`, `87654321`, `13579`), too few different characters, and the
 * user name inside the password.
 */

/**
 * Words behind the most common passwords: defaults of devices and software, words of the field,
 * keyboard rows, and the words and names that lead every published frequency count.
 */
const COMMON_WORDS = new Set(
  (
    'password pass passwd passcode passphrase admin administrator root toor superuser sysadmin user username guest ' +
    'operator opcua opc sensorkit sensor device default changeme change secret private public letmein welcome login ' +
    'logon access master manager service support system systems server client control controller plc scada hmi ' +
    'factory plant engineer engineering maintenance technician station remote network internet wireless wifi ' +
    'computer security secure test testing tester demo sample example temp temporary backup firmware update ' +
    'siemens schneider rockwell beckhoff omron abb honeywell emerson yokogawa codesys raspberry raspberrypi ' +
    'arduino ubuntu linux debian windows microsoft google apple android samsung iphone qwerty qwertz azerty ' +
    'asdf asdfgh asdfghjkl zxcvbn zxcvbnm abc abcd abcdef iloveyou loveyou love lovely lover hello monkey ' +
    'dragon shadow sunshine princess football baseball basketball soccer hockey cricket tennis golf killer ' +
    'superman batman spiderman starwars pokemon matrix trustno1 trustno whatever freedom master1 michael jennifer ' +
    'jordan hunter ranger buster charlie thomas robert daniel andrew joshua george william jessica ashley amanda ' +
    'nicole michelle maggie ginger pepper cookie cheese chocolate banana orange apple cherry flower summer winter ' +
    'spring autumn monday friday sunday january december secret1 blink letmein1 money fuckyou fuck ninja mustang ' +
    'harley corvette ferrari porsche mercedes tigger tiger lion eagle falcon phoenix silver golden diamond ' +
    'hotdog pizza coffee beer whiskey happy smile angel heaven jesus god family friend friends hello1 secret123 ' +
    'zaq xsw qaz wsx edc rfv tgb yhn ujm'
  ).split(' '),
);

/** Keyboard rows and columns (QWERTY, QWERTZ, AZERTY) and the usual zig-zags, each also reversed. */
const KEYBOARD_WALKS = [
  '`1234567890-=',
  'qwertyuiop[]\\',
  "asdfghjkl;'",
  'zxcvbnm,./',
  'qwertzuiopü',
  'asdfghjklöä',
  'yxcvbnm',
  'azertyuiop',
  'qsdfghjklm',
  'wxcvbn',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/',
  'zaq1xsw2cde3vfr4bgt5nhy6mju7',
  '1q2w3e4r5t6y7u8i9o0p',
  'q1w2e3r4t5y6u7i8o9p0',
  'qazwsxedcrfvtgbyhnujmikolp',
  'qweasdzxc',
  'qweasd',
  'zxcasdqwe',
  '147258369',
  '741852963',
  '159357',
  '123qwe',
  '123qweasd',
  '123qweasdzxc',
  '1qazxsw2',
  'qwer1234',
  'asdf1234',
];

/** The character a look-alike stands for (`P@ssw0rd` → `password`). */
const LOOK_ALIKES: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '!': 'i', '3': 'e', '4': 'a', '@': 'a', '5': 's', $: 's', '7': 't', '+': 't', '8': 'b', '9': 'g' };

/**
 * Why `password` is a common or trivial one for the user `name`, or undefined when it is not.
 *
 * @example
 * ```ts
 * weakPasswordProblem('operator', 'password1') // 'is a common password with digits or symbols around it'
 * weakPasswordProblem('operator', 'qwertyui')  // 'is a keyboard walk'
 * weakPasswordProblem('operator', 'aaaaaaaa')  // 'repeats one character'
 * weakPasswordProblem('operator', 'correct horse battery staple') // undefined
 * ```
 */
export function weakPasswordProblem(name: string, password: string): string | undefined {
  const lower = password.toLowerCase();
  const user = name.toLowerCase();
  if (new Set(lower).size === 1) return 'repeats one character';
  if (user.length >= 3 && (lower.includes(user) || lower.includes([...user].reverse().join('')))) return 'contains the user name';
  if (repeatsShortPattern(lower)) return 'repeats a short pattern';
  if (isRun(lower)) return 'is a run of letters or digits';
  if (isKeyboardWalk(lower)) return 'is a keyboard walk';
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/g, '');
  if (core !== lower && core !== '' && (isRun(core) || isKeyboardWalk(core) || isCommon(core))) return 'is a common password with digits or symbols around it';
  if (isCommon(lower) || isCommon(unLookAlike(lower))) return 'is a common password';
  if (new Set(lower).size < 5) return 'uses fewer than 5 different characters';
  return undefined;
}

/** A common word, with look-alikes undone, or a common word repeated (`passwordpassword`). */
function isCommon(text: string): boolean {
  for (const candidate of new Set([text, unLookAlike(text), text.replace(/[\W_]+/g, ''), unLookAlike(text).replace(/[\W_\d]+/g, '')])) {
    if (COMMON_WORDS.has(candidate)) return true;
    const unit = shortestRepeatedUnit(candidate);
    if (unit !== candidate && COMMON_WORDS.has(unit)) return true;
  }
  return false;
}

function unLookAlike(text: string): string {
  return [...text].map((c) => LOOK_ALIKES[c] ?? c).join('');
}

/** `abcabcabc`, `12121212`, `qweqweqwe`: a unit of at most 4 characters, repeated. */
function repeatsShortPattern(text: string): boolean {
  const unit = shortestRepeatedUnit(text);
  return unit !== text && unit.length <= 4;
}

function shortestRepeatedUnit(text: string): string {
  for (let size = 1; size <= text.length / 2; size++) {
    if (text.length % size === 0 && text.slice(0, size).repeat(text.length / size) === text) return text.slice(0, size);
  }
  return text;
}

/** Each character one or two code points after (or before) the last: `abcdefgh`, `87654321`, `13579`. */
function isRun(text: string): boolean {
  if (text.length < 4) return false;
  const step = text.charCodeAt(1) - text.charCodeAt(0);
  if (step === 0 || Math.abs(step) > 2) return false;
  for (let i = 2; i < text.length; i++) if (text.charCodeAt(i) - text.charCodeAt(i - 1) !== step) return false;
  return true;
}

/** Entirely a stretch of one keyboard walk, forwards or backwards, possibly wrapping round it. */
function isKeyboardWalk(text: string): boolean {
  if (text.length < 4) return false;
  return KEYBOARD_WALKS.some((walk) => {
    const reversed = [...walk].reverse().join('');
    return `${walk}${walk}`.includes(text) || `${reversed}${reversed}`.includes(text);
  });
}
