module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/js'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json']
};
