var app = WebApplication.CreateBuilder(args).Build();
app.MapGet("/", () => "Continuous Development");
app.Run();
public partial class Program;
