/** controller/qmp — our QEMU Machine Protocol client (Unix socket and TCP). */
export { QmpClient } from './qmp-client.js';
export type { QmpCommandOptions } from './qmp-client.js';
export { QmpError, QMP_ERROR_CODES } from './errors.js';
export type { QmpErrorCode, QmpErrorOptions } from './errors.js';
export { parseQmpClientOptions, parseQmpAddress, DEFAULT_QMP_CLIENT_OPTIONS } from './options.js';
export type { QmpClientOptions, ResolvedQmpClientOptions } from './options.js';
export { socketTransport } from './transport.js';
export type { QmpTransport, QmpConnection, QmpConnectionHandlers, QmpEndpoint } from './transport.js';
export { parseQmpMessage } from './messages.js';
export type { QmpGreeting, QmpEvent, QmpMessage } from './messages.js';
