//! The checksum of the engine's binary forms (compiled site configurations, models and their shards).

/// CRC-32/ISO-HDLC, the zlib/PNG checksum.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    CRC.checksum(bytes)
}
