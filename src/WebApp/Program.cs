using WebApp.Hosting;

WebAppHost.Create(args).Run();

public partial class Program;
