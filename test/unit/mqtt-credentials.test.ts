import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../sdk/core/clock.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { SenmlCborEncoder } from '../../sdk/encoding/senml-cbor.js';
import { redactCredentials, splitCredentials } from '../../sdk/transport/mqtt/credentials.js';
import { MqttTransport } from '../../sdk/transport/mqtt/mqtt-transport.js';
import { parseBrokerUrl } from '../../sdk/transport/mqtt/options.js';
import type { TelemetryOutbox } from '../../sdk/transport/mqtt/contracts.js';

describe('broker credentials', () => {
  it('redacts the password of every URL in a text, keeping the user name', () => {
    expect(redactCredentials('mqtt://admin:S3cret@broker:1883 and mqtts://u:p%40ss@h/x')).toBe('mqtt://admin:***@broker:1883 and mqtts://u:***@h/x');
    expect(redactCredentials('mqtt://admin@broker:1883')).toBe('mqtt://admin@broker:1883');
    expect(redactCredentials('mqtt://broker:1883, time 12:30@noon')).toBe('mqtt://broker:1883, time 12:30@noon');
  });

  it('splits a URL into the URL without userinfo and its percent-decoded user name and password', () => {
    expect(splitCredentials(new URL('mqtt://admin:S3%40cret@broker:1883'))).toEqual({ url: 'mqtt://broker:1883', username: 'admin', password: 'S3@cret' });
    expect(splitCredentials(new URL('mqtt://broker'))).toEqual({ url: 'mqtt://broker' });
  });

  it('echoes no password in an error about the broker URL', () => {
    const error = (() => {
      try {
        parseBrokerUrl('ftp://admin:S3cret@broker');
      } catch (caught) {
        return caught as ValidationError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe('url: unsupported scheme "ftp:" in "ftp://admin:***@broker"; expected mqtt: or mqtts:');
  });

  it('shows the transport URL without the credentials (banner, status, forms of the Thing Description)', () => {
    const outbox = { stats: () => ({ pendingRecords: 0, droppedRecords: 0 }) } as unknown as TelemetryOutbox;
    const transport = new MqttTransport({ url: 'mqtt://admin:S3cret@127.0.0.1:1', deviceId: 'probe-X', clock: new SystemClock(), outbox, encoder: new SenmlCborEncoder() });
    expect(transport.url).toBe('mqtt://127.0.0.1:1');
    expect(new MqttTransport({ url: 'mqtt://127.0.0.1:1', deviceId: 'probe-X', clock: new SystemClock(), outbox, encoder: new SenmlCborEncoder() }).url).toBe('mqtt://127.0.0.1:1');
  });
});
