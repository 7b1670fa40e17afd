namespace NetObserv.Storage.Copy;

/// <summary>The rows refused in one batch or journal file, for the one log line that sums them up.</summary>
internal sealed class RejectionTally
{
    /// <summary>Rows refused.</summary>
    public int Rows { get; private set; }

    /// <summary>Refused rows that could not be kept in <c>flows_rejected</c> (full or failing).</summary>
    public int NotKept { get; private set; }

    /// <summary>SQLSTATE (or <see cref="WriteErrorClassifier.ClientReason"/>) of the first refused row.</summary>
    public string? FirstReason { get; private set; }

    /// <summary>The error of the first refused row.</summary>
    public string? FirstError { get; private set; }

    public void Add(string reason, Exception error)
    {
        if (Rows++ == 0)
        {
            FirstReason = reason;
            FirstError = error.Message;
        }
    }

    public void AddNotKept() => NotKept++;

    public void Clear()
    {
        Rows = 0;
        NotKept = 0;
        FirstReason = null;
        FirstError = null;
    }
}
