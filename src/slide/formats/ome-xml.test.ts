import { describe, expect, test } from 'vitest';
import { omeColorToHex, parseOmeXml } from './ome-tiff';
import { parseXml } from './ome-xml';

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <Pixels SizeX="1"/> inside -->
<ome:OME xmlns:ome="http://www.openmicroscopy.org/Schemas/OME/2016-06">
  <ome:Instrument ID="Instrument:0">
    <ome:Objective ID="Objective:0" NominalMagnification="10"/>
    <ome:Objective ID="Objective:1" NominalMagnification="40.0"/>
  </ome:Instrument>
  <ome:Image ID="Image:0" Name="slide &amp; &lt;one&gt;">
    <ome:ObjectiveSettings ID='Objective:1'/>
    <ome:Pixels DimensionOrder="XYZCT" Type="uint16" SizeX="1000" SizeY="800" SizeC="2" SizeZ="3" SizeT="1"
        PhysicalSizeX="650" PhysicalSizeXUnit="nm" PhysicalSizeY="0.00065" PhysicalSizeYUnit="mm">
      <ome:Channel ID="Channel:0:0" Name="DAPI" Color="65535" SamplesPerPixel="1"/>
      <ome:Channel ID="Channel:0:1" Name="Cy5 &#x2192; far red" Color="-16776961"/>
      <ome:TiffData IFD="0" PlaneCount="6"/>
    </ome:Pixels>
  </ome:Image>
  <ome:Image ID="Image:1" Name="macro"><ome:Pixels SizeX="10" SizeY="10"/></ome:Image>
</ome:OME>`;

describe('OME-XML without DOMParser', () => {
  test('reads sizes, units, channels, colours, objective, entities', () => {
    const ome = parseOmeXml(XML)!;
    expect(ome.name).toBe('slide & <one>');
    expect([ome.sizeX, ome.sizeY, ome.sizeZ, ome.sizeT]).toEqual([1000, 800, 3, 1]);
    expect(ome.type).toBe('uint16');
    expect(ome.physicalSizeX).toBeCloseTo(0.65, 12);
    expect(ome.physicalSizeY).toBeCloseTo(0.65, 12);
    expect(ome.channels).toEqual([
      { name: 'DAPI', color: '#0000ff', samplesPerPixel: 1 },
      { name: 'Cy5 → far red', color: '#ff0000', samplesPerPixel: 1 },
    ]);
    expect(ome.objectivePower).toBe(40);
    expect(ome.imageCount).toBe(2);
  });

  test('maps planes to IFDs in DimensionOrder (XYZCT: Z varies fastest)', () => {
    const ome = parseOmeXml(XML)!;
    expect(ome.planeToIfd(ome.planeIndex(0, 0, 0))).toBe(0);
    expect(ome.planeToIfd(ome.planeIndex(1, 0, 0))).toBe(3);
    expect(ome.planeToIfd(ome.planeIndex(1, 2, 0))).toBe(5);
  });

  test('TiffData blocks with FirstC map channels to arbitrary IFDs', () => {
    const xml = `<OME><Image><Pixels SizeX="4" SizeY="4" SizeC="2" DimensionOrder="XYCZT">
      <TiffData FirstC="1" IFD="7"/><TiffData FirstC="0" IFD="2"/></Pixels></Image></OME>`;
    const ome = parseOmeXml(xml)!;
    expect(ome.channels).toHaveLength(2);
    expect(ome.planeToIfd(0)).toBe(2);
    expect(ome.planeToIfd(1)).toBe(7);
  });

  test('OME colours are signed RGBA integers', () => {
    expect(omeColorToHex('-1')).toBe('#ffffff');
    expect(omeColorToHex('16711935')).toBe('#00ff00');
    expect(omeColorToHex('not a number')).toBeUndefined();
  });

  test('not OME-XML gives undefined; malformed XML does not throw', () => {
    expect(parseOmeXml('Aperio Image Library')).toBeUndefined();
    expect(parseXml('<a><b x="1"></a></c>').children[0].name).toBe('a');
  });
});
