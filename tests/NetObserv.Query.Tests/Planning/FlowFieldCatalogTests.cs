using NetObserv.Flows;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Tests.Planning;

/// <summary>The LogQL catalog and the row reader against the field table.</summary>
public class FlowFieldCatalogTests
{
    [Fact]
    public void Catalog_EveryScalarField_ReadsItsColumn()
    {
        foreach (var field in FlowFields.All)
        {
            if (field.IsArray)
            {
                Assert.False(FlowFieldCatalog.TryGet(field.Name, out _), field.Name);
                continue;
            }

            Assert.True(FlowFieldCatalog.TryGet(field.Name, out var query), field.Name);
            Assert.Contains(field.Column, query.Sql, StringComparison.Ordinal);
            Assert.Equal(field.IsNumeric, query.IsNumeric);
            Assert.Equal(field.IsAddress, query.IsAddress);
            Assert.Equal(field.IsRollupKey, query.IsRollupDimension);
        }

        // Only the derived sampled counters are not fields of the table.
        Assert.Equal(FlowFields.All.Count(f => !f.IsArray) + 2, FlowFieldCatalog.All.Count);
    }

    [Fact]
    public void RowReader_SelectsEveryFieldsColumnAndTheExtraFields()
    {
        var columns = FlowRowReader.Columns.Split(',', StringSplitOptions.TrimEntries)
            .Select(c => c.Split("::")[0]).ToList();
        Assert.All(FlowFields.All, f => Assert.Contains(f.Column, columns));
        Assert.Contains("extra_fields", columns);
        Assert.Equal(FlowRowReader.ColumnCount, columns.Count);
    }

    [Theory]
    [InlineData("DnsFlagsResponseCode")]
    [InlineData("XlatSrcAddr")]
    [InlineData("a custom field")]
    public void Filter_FieldWithoutAColumn_ReadsExtraFieldsWithTheNameAsAParameter(string name)
    {
        var p = new SqlParameters();
        var sql = FilterCompiler.Filter(new StringLabelFilter(name, MatchOperator.Equal, "x", 0), p);
        Assert.Contains("extra_fields ->> $", sql, StringComparison.Ordinal);
        Assert.DoesNotContain(name, sql, StringComparison.Ordinal);
    }
}
