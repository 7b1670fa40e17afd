using System.Text.Json.Serialization;

namespace NetObserv.GrafanaPlugin.Frames;

/// <summary>Source-generated JSON for label maps (field metadata <c>labels</c>, log line labels).</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class FrameJsonContext : JsonSerializerContext;
