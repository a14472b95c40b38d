// Tests import the library through its source barrel, as users import the package.
export * from '../../src/index.js';
