export { bootTest, ROOT_CHECK, type BootTestOptions, type BootTestResult, type BootStage } from './boot-test.js';
