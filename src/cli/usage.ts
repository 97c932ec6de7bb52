/** Usage text of the program and of each command, so `--help` answers without reading the README. */
const COMMANDS = {
  serve: [
    'usage: defender-gateway [serve] [--config FILE]',
    '',
    'Runs the gateway (the default command). The config comes from --config FILE, else the',
    'GATEWAY_CONFIG environment variable, else config/gateway.yaml. An invalid config exits 1',
    'listing every problem. SIGTERM/Ctrl-C drain and exit 0; SIGHUP reloads clients, tenants,',
    'extraRoutes and oauth from the same file.'
  ],
  keygen: [
    'usage: defender-gateway keygen --client NAME',
    '',
    'Prints a new 256-bit API key for client NAME once, and the clients: entry that stores only',
    'its SHA-256 (keySha256). NAME: letters, digits, dot, dash, underscore.'
  ],
  'check-config': [
    'usage: defender-gateway check-config FILE [--without-secrets]',
    '',
    'Validates FILE and lists every problem with its path (YAML syntax errors with line and',
    'column); exit 0 when valid, 1 otherwise.',
    '  --without-secrets  do not read the secrets and files the config references ({fromEnv},',
    '                     {fromFile}, key and certificate files); list them as not checked.',
    '                     For CI, where the secrets are not present.'
  ],
  'consent-url': [
    'usage: defender-gateway consent-url TENANT [--config FILE]',
    '',
    "Prints the admin-consent link a customer tenant's admin opens to consent to the gateway's",
    'app. TENANT: a configured tenant id or name; anything else exits 1.'
  ],
  'tenant-status': [
    'usage: defender-gateway tenant-status TENANT [--config FILE]',
    '',
    'Acquires a token for a configured tenant (id or name) with the app credential and prints',
    'the configured, granted and missing permissions. Exit 0: all granted; 3: consent missing;',
    '1: unknown tenant, invalid config or no token.'
  ]
} as const

export type CommandName = keyof typeof COMMANDS

/** True for the names `main` dispatches on. */
export function isCommand (name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name)
}

/** Usage of one command. */
export function commandUsage (command: CommandName): string {
  return COMMANDS[command].join('\n')
}

/** Usage of the whole program: one line per command, and where to read more. */
export function programUsage (): string {
  return [
    'usage: defender-gateway [COMMAND] [OPTIONS]',
    '       (from a clone, with no build: npm run cli -- [COMMAND] [OPTIONS])',
    '',
    'Commands:',
    '  serve [--config FILE]                    run the gateway (default)',
    '  keygen --client NAME                     new API key for a client, and its keySha256',
    '  check-config FILE [--without-secrets]    validate a config file, every problem at once',
    '  consent-url TENANT [--config FILE]       admin-consent link for a configured tenant',
    '  tenant-status TENANT [--config FILE]     granted vs configured permissions of a tenant',
    '',
    'COMMAND --help prints the usage of that command.'
  ].join('\n')
}

/** `-h`/`--help` anywhere before a `--`: the caller wants usage, not an action. */
export function wantsHelp (args: readonly string[]): boolean {
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help')
}
