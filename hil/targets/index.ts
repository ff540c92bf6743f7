/** Targets: the device under test, emulated or on a real board. */
export type * from './target.js';
export { createTarget, type CreateTargetOptions } from './create-target.js';
export { createEmulatedTarget, parseInjection, checkInjection, INJECTION_KINDS, type EmulatedTarget, type EmulatedTargetOptions, type Injection, type InjectionKind } from './emulated.js';
export { canInjectFaults, type FaultInjecting } from './emulated-faults.js';
export { parseTargetSpec, checkTargetSpec, boardSpecOf, type TargetSpec } from './target-spec.js';
export { RuntimeTarget, type RuntimeTargetOptions } from './runtime-target.js';
export { MqttObserver, type MqttObserverOptions, type MqttObserverStats, type CommandReplyMessage } from './mqtt-observer.js';
// The OPC UA observer loads node-opcua: reach it through `communicationsOf(target).openOpcua()` or import it from its module.
export type { OpcuaObserver } from './opcua-observer.js';
export { qualityOfStatus, senmlUnitOf, type OpcuaObserverOptions, type OpcuaReading } from './opcua-samples.js';
export { startOwnedBroker, type BrokerControl, type OwnedBroker } from './broker-control.js';
export { communicationsOf, type CommunicatingTarget, type OutageOptions, type OutageReport, type TargetCommunications } from './communications.js';
