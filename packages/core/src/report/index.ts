export * from './matrix.js';
export * from './render-markdown.js';
export * from './render-html.js';
export * from './render-json.js';
