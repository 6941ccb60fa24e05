export { fakeConverter, FAKE_CONVERTER_NAMES } from './fake-converter.js';
export { selectConverter, type ConverterChoice } from './select.js';
