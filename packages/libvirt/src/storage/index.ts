export * from './qemu-img.js';
export * from './image-cache.js';
export * from './instance-files.js';
export * from './snapshots.js';
