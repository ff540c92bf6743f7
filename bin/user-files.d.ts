/** True when a command line names a TypeScript file of the user's (see user-files.js). */
export function mentionsTypeScript(args: readonly string[]): boolean;
