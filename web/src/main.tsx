import { render } from 'preact';
import { App } from './App';
import { start } from './boot';
import './style.css';

const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
void start();
