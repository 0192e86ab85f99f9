/**
 * The controller's side of the migration protocol: its migrations' tickets, and the devices of a
 * migration reached over the network (plugins beside their switches).
 */
export { DEFAULT_TICKET_ISSUER_OPTIONS, TicketIssuer } from './ticket-issuer.js';
export type { TicketIssuerOptions, TicketScope, TicketSource } from './ticket-issuer.js';
export { connectRemoteDevices } from './remote-devices.js';
export type { RemoteDeviceAddress, RemoteDevices, RemoteDevicesOptions } from './remote-devices.js';
export { AgreedTicket } from './agreed-ticket.js';
