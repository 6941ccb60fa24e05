import { defineCli } from '@meph/cli-kit';

// Each command module is imported only when that command runs (start-up time, issue 14).
export const spec = defineCli({
  name: 'meph2-util',
  version: '0.1.0',
  describe: 'manage MAAS simplestreams: edit, promote, clean, sign, verify, query, boot-test, mirror and publish streams',
  commands: [
    { name: 'query', load: async () => (await import('./commands/query.js')).queryCommand },
    { name: 'sign', load: async () => (await import('./commands/sign.js')).signCommand },
    { name: 'verify', load: async () => (await import('./commands/verify.js')).verifyCommand },
    { name: 'find-orphans', load: async () => (await import('./commands/find-orphans.js')).findOrphansCommand },
    { name: 'reap-orphans', load: async () => (await import('./commands/reap-orphans.js')).reapOrphansCommand },
    { name: 'insert', load: async () => (await import('./commands/insert.js')).insertCommand },
    { name: 'promote', load: async () => (await import('./commands/promote.js')).promoteCommand },
    { name: 'clean-md', load: async () => (await import('./commands/clean-md.js')).cleanMdCommand },
    { name: 'merge', load: async () => (await import('./commands/merge.js')).mergeCommand },
    { name: 'remove-version', load: async () => (await import('./commands/remove-version.js')).removeVersionCommand },
    { name: 'copy-version', load: async () => (await import('./commands/copy-version.js')).copyVersionCommand },
    { name: 'diff', load: async () => (await import('./commands/diff.js')).diffCommand },
    { name: 'patch', load: async () => (await import('./commands/patch.js')).patchCommand },
    { name: 'import', load: async () => (await import('./commands/import.js')).importCommand },
    { name: 'boot-test', load: async () => (await import('./commands/boot-test.js')).bootTestCommand },
    { name: 'publish', load: async () => (await import('./commands/publish.js')).publishCommand },
    { name: 'ss-swift', load: async () => (await import('./commands/publish.js')).ssSwiftCommand },
    { name: 'mirror', load: async () => (await import('./commands/mirror.js')).mirrorCommand },
    { name: 'netboot-mirror', load: async () => (await import('./commands/netboot-mirror.js')).netbootMirrorCommand },
  ],
});
