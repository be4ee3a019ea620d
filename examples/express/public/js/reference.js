// The API reference: Swagger UI renders the document albumkit generates from its route
// definitions. "Try it out" calls the API with the demo's token when the page has one.
const TOKEN_KEY = 'albumkit-demo.token';

const ui = globalThis.SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  tryItOutEnabled: false,
  // Every response renews the token: keep the freshest one for the next call.
  responseInterceptor(response) {
    const renewed = response.headers?.['x-token'];
    if (renewed) {
      localStorage.setItem(TOKEN_KEY, renewed);
      ui.preauthorizeApiKey('token', `Token token="${renewed}"`);
    }
    return response;
  },
  onComplete() {
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) ui.preauthorizeApiKey('token', `Token token="${token}"`);
  },
});
