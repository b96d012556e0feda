// Copyright 2026 the midisock authors. MIT license.
// The NATS client, in one place: its pinned version is here and only here
// (see README "Dependencies" for why this one).

export { connect as connectNats } from "npm:@nats-io/transport-node@3.4.0";
export {
  credsAuthenticator,
  headers as natsHeaders,
  type Msg as NatsMsg,
  type NatsConnection,
} from "npm:@nats-io/nats-core@3.4.0";
