/**
 * The SenML → UNECE Rec 20 table and the OPC UA EUInformation unitId (IEC 62541-8 §5.6.3), and the
 * quality → StatusCode table, checked against node-opcua's own StatusCodes.
 */
import { StatusCodes } from 'node-opcua-status-code';
import { describe, expect, it } from 'vitest';
import { LIMIT_HIGH, LIMIT_LOW, OPCUA_STATUS, statusCodeOf } from '../../sdk/transport/opcua/opcua-status.js';
import { UNECE_NAMESPACE_URI, engineeringUnits, mappedUnits, uneceCode, uneceUnitId } from '../../sdk/transport/opcua/opcua-units.js';
import { allUnits } from '../../sdk/core/units.js';
import { UnitError } from '../../sdk/core/errors.js';

describe('SenML units as UNECE Rec 20 codes', () => {
  it('maps every unit the model accepts (a new unit without a row fails here)', () => {
    const units = allUnits();
    expect(units.length).toBeGreaterThan(100);
    for (const unit of units) {
      const eu = engineeringUnits(unit.symbol);
      expect(eu.namespaceUri).toBe(UNECE_NAMESPACE_URI);
      expect(eu.description).toBe(unit.description);
      expect(eu.displayName.length).toBeGreaterThan(0);
      if (eu.code === null) {
        expect(eu.unitId).toBe(-1);
      } else {
        expect(eu.code).toMatch(/^[A-Z0-9]{2,3}$/);
        expect(eu.unitId).toBe(uneceUnitId(eu.code));
      }
    }
    // …and has no row for a unit the model does not know.
    expect(new Set(mappedUnits())).toEqual(new Set(units.map((unit) => unit.symbol)));
  });

  it('computes unitId as the code characters, big-endian (values from the OPC Foundation UNECE_to_OPCUA table)', () => {
    expect(uneceUnitId('MTR')).toBe(5067858);
    expect(uneceUnitId('CEL')).toBe(4408652);
    expect(uneceUnitId('A97')).toBe(4274487);
    expect(uneceUnitId('4K')).toBe(13387);
    expect(uneceUnitId('81')).toBe(14385);
    expect(() => uneceUnitId('mtr')).toThrow(UnitError);
    expect(() => uneceUnitId('ABCD')).toThrow(UnitError);
  });

  it('uses the codes an OPC UA client expects for common sensor units', () => {
    expect(Object.fromEntries(['Cel', 'K', '%RH', 'hPa', 'Pa', 'm/s2', 'V', 'mA', 'Hz', 'ppm', 'kWh'].map((u) => [u, uneceCode(u)]))).toEqual({
      Cel: 'CEL', K: 'KEL', '%RH': 'P1', hPa: 'A97', Pa: 'PAL', 'm/s2': 'MSK', V: 'VLT', mA: '4K', Hz: 'HTZ', ppm: '59', kWh: 'KWH',
    });
    expect(engineeringUnits('Cel')).toMatchObject({ displayName: '°C', unitId: 4408652 });
    expect(engineeringUnits('dBW')).toMatchObject({ code: null, unitId: -1, displayName: 'dBW' });
    expect(() => engineeringUnits('furlong')).toThrow(/no UNECE mapping for unit "furlong"/);
  });
});

describe('quality as an OPC UA StatusCode', () => {
  it('uses the values of IEC 62541-6 Annex A (as node-opcua defines them)', () => {
    for (const [name, value] of Object.entries(OPCUA_STATUS)) {
      expect((StatusCodes as unknown as Record<string, { value: number }>)[name]?.value, name).toBe(value);
    }
  });

  it('maps each level and reason to a fitting sub-code', () => {
    expect(statusCodeOf({ level: 'good' })).toBe(StatusCodes.Good.value);
    expect(statusCodeOf({ level: 'uncertain', reason: 'stale' })).toBe(StatusCodes.UncertainLastUsableValue.value);
    expect(statusCodeOf({ level: 'uncertain', reason: 'calibration_expired' })).toBe(StatusCodes.UncertainSensorCalibration.value);
    expect(statusCodeOf({ level: 'bad', reason: 'sensor_fault' })).toBe(StatusCodes.BadSensorFailure.value);
    expect(statusCodeOf({ level: 'bad', reason: 'out_of_range' })).toBe(StatusCodes.BadOutOfRange.value);
    expect(statusCodeOf({ level: 'bad' })).toBe(StatusCodes.Bad.value);
  });

  it('sets the limit bit of an out-of-range value', () => {
    const range = { min: -40, max: 85 };
    expect(statusCodeOf({ level: 'uncertain', reason: 'out_of_range' }, 90, range)).toBe(StatusCodes.UncertainEngineeringUnitsExceeded.value + LIMIT_HIGH);
    expect(statusCodeOf({ level: 'uncertain', reason: 'out_of_range' }, -50, range)).toBe(StatusCodes.UncertainEngineeringUnitsExceeded.value + LIMIT_LOW);
    expect(statusCodeOf({ level: 'uncertain', reason: 'out_of_range' }, null, range)).toBe(StatusCodes.UncertainEngineeringUnitsExceeded.value);
  });
});
