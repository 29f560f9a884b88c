import cjs from './index.js';

export const { Translator, extract, inspect, inject, translate, FORMATS } = cjs;
export default cjs;
