// Every package and app is one Vitest project; vitest.config.ts reads this list.
export default ['packages/*', 'apps/*'];
