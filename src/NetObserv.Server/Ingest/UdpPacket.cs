using System.Net;

namespace NetObserv.Server.Ingest;

/// <summary>A datagram waiting for the decoder: a pooled buffer (returned after decoding), its length, its sender.</summary>
internal readonly record struct UdpPacket(byte[] Buffer, int Length, IPAddress Exporter);
